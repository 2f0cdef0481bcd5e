-- wrk script: POST the body in $WRK_BODY with the content type in $WRK_TYPE (default application/json)
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or "{}"
wrk.headers["Content-Type"] = os.getenv("WRK_TYPE") or "application/json"
