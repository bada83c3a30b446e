-- wrk script: POST a submission with the PAT from the BENCH_TOKEN environment variable.
wrk.method = "POST"
wrk.body = '{"url": "https://jobs.example.com/view/4242", "title": "Product Manager", "company": "Acme"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
