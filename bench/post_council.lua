-- wrk script: create councils as a district admin (bench/run.sh puts the token in the environment).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("COGOV_BENCH_TOKEN")
wrk.body = '{"kind":"community_school_steering_committee","name":"Benchmark Steering Committee","description":"created by the benchmark"}'
