# Step 1: Initial analysis
JOB_ID=$(curl -X POST https://api.knify.io/jobs \
  -H "Authorization: Bearer $KNIFY_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "spec": {
      "job_type": "cursor_task",
      "prompt": "Analyze this codebase and identify bottlenecks"
    }
  }' | jq -r '.job_id')

# Wait for completion...
sleep 60

# Step 2: Generate optimizations
curl -X POST https://api.knify.io/jobs/$JOB_ID/continue \
  -H "Authorization: Bearer $KNIFY_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "spec": {
      "job_type": "cursor_task",
      "prompt": "Based on your analysis, implement optimizations"
    }
  }'

# Step 3: Run tests
curl -X POST https://api.knify.io/jobs/$JOB_ID/continue \
  -H "Authorization: Bearer $KNIFY_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "spec": {
      "job_type": "cursor_task",
      "prompt": "Run tests to verify the optimizations"
    }
  }'

# Step 4: Generate report
curl -X POST https://api.knify.io/jobs/$JOB_ID/continue \
  -H "Authorization: Bearer $KNIFY_API_KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "spec": {
      "job_type": "cursor_task",
      "prompt": "Create a markdown report summarizing all changes"
    }
  }'
