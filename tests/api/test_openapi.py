"""Every API endpoint is in the OpenAPI document with its models and error cases."""


def test_every_endpoint_documents_its_errors(client):
    spec = client.get("/openapi.json").json()
    missing = []
    for path, ops in spec["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, op in ops.items():
            codes = set(op.get("responses", {}))
            problem = [c for c in codes if c.startswith(("4", "5")) and c != "422"]  # 422 FastAPI adds itself
            if not problem:
                missing.append(f"{method.upper()} {path} documents no error case")
            for c in problem:
                content = op["responses"][c].get("content", {})
                if "application/problem+json" not in content and "application/json" not in content:
                    missing.append(f"{method.upper()} {path} {c} has no body schema")
    assert not missing, missing
    for required in ("/api/v1/documents", "/api/v1/auth/token", "/api/v1/verify", "/api/v1/documents/{document_id}/sign",
                     "/api/v1/documents/{document_id}/register", "/api/v1/documents/{document_id}/issue"):
        assert required in spec["paths"]
