def test_a_job_enqueued_from_a_request_runs_in_a_worker(client, work):
    from tests import builders as b
    acc = b.account("Pinged")
    b.user(acc, "owner@example.com")
    b.login(client, "owner@example.com")
    token = b.csrf_token(client, "/")
    resp = client.post("/system/ping", headers={"X-CSRFToken": token})
    assert resp.status_code == 202
    job_id = resp.get_json()["job_id"]
    assert client.get(f"/system/ping/{job_id}").get_json()["status"] == "queued"
    work(("default",))
    result = client.get(f"/system/ping/{job_id}").get_json()
    assert result["status"] == "finished"
    assert result["result"]["pong"] is True and result["result"]["account"] == "Pinged"


def test_healthz_reports_database_and_redis(client):
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": "ok", "redis": "ok"}
