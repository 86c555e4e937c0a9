"""The FastAPI application shared by the radio pages, the API and the operators' console."""
