"""The routes, one module per area; each gets the service's parts by port (``api.deps``)."""
