"""Health checks and the OpenAPI description."""

from __future__ import annotations

from tests.harness import Server


async def test_health_reports_database_and_engines(server: Server) -> None:
    answer = await server.client().get("/health")
    assert answer.status_code == 200
    assert answer.json()["database"] == "ok"
    assert answer.json()["engines"] == {"sandbox": "ok"}


async def test_liveness_touches_nothing(server: Server) -> None:
    assert (await server.client().get("/health/live")).json() == {"status": "ok"}


async def test_openapi_describes_every_endpoint_with_schemas(server: Server) -> None:
    """Each API operation has a success schema and documents its error answers."""
    spec = (await server.client().get("/openapi.json")).json()
    operations = [
        (path, method, operation)
        for path, methods in spec["paths"].items()
        if path.startswith("/api/")
        for method, operation in methods.items()
    ]
    assert len(operations) >= 9
    for path, method, operation in operations:
        success = next(code for code in operation["responses"] if code.startswith("2"))
        content = operation["responses"][success].get("content", {})
        if path == "/api/decrypt-media":  # answers the raw file (API.md "General")
            assert content["application/octet-stream"]["schema"]["format"] == "binary"
            continue
        if path == "/api/events":  # a stream (README "Events without a public URL")
            assert "text/event-stream" in content
            assert "401" in operation["responses"]
            continue
        assert "application/json" in content, (path, method)
        assert content["application/json"]["schema"], (path, method)
        assert "401" in operation["responses"], (path, method)
    create = spec["paths"]["/api/whatsapp/sessions"]["post"]
    assert "requestBody" in create
    assert (await server.client().get("/docs")).status_code == 200
