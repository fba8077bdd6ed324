-- wrk script: create councils.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"kind":"community_school_steering_committee","name":"Benchmark Steering Committee","description":"created by the benchmark"}'
