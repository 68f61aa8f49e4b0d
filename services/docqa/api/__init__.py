"""The HTTP API: the app and its lifespan, the guard, problem+json errors, routes, schemas."""
