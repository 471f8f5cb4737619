"""BCP incident response: incidents, their exposure for a root company, the survey."""
