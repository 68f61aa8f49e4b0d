"""One adapter per outside system (Chroma, Redis, RediSearch, TEI, OpenAI-compatible servers,
local models), each implementing its port from ``core.ports``; only ``wiring`` builds them."""
