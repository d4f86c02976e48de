"""The admin changes an official's full name, position, unit and roles at run time."""


def test_admin_patches_name_position_unit_and_roles(client, as_user):
    users = {u["username"]: u for u in client.get("/api/v1/users", headers=as_user("admin")).json()}
    units = {u["abbreviation"]: u["id"] for u in client.get("/api/v1/units", headers=as_user("admin")).json()}
    who = users["truongphong"]
    r = client.patch(f"/api/v1/users/{who['id']}", headers=as_user("admin"),
                     json={"full_name": "Lê Thị Thu Hà", "position": "Phó Chủ tịch", "unit_id": units["VP"],
                           "roles": ["leader"]})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["position"], got["unit_id"], got["roles"]) == ("Phó Chủ tịch", units["VP"], ["leader"])
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=as_user("admin")).json()}
    assert listed["truongphong"]["position"] == "Phó Chủ tịch"

    assert client.patch(f"/api/v1/users/{who['id']}", headers=as_user("chutich"),
                        json={"position": "Chủ tịch"}).status_code == 403
    bad = client.patch(f"/api/v1/users/{who['id']}", headers=as_user("admin"), json={"unit_id": "nope"})
    assert bad.status_code == 404 and bad.headers["content-type"].startswith("application/problem+json")
    assert client.patch(f"/api/v1/users/{who['id']}", headers=as_user("admin"),
                        json={"full_name": "   "}).status_code == 422
