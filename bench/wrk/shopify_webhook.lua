-- Signed Shopify orders/create deliveries, each with its own X-Shopify-Event-Id.
-- Usage: wrk ... -s shopify_webhook.lua URL -- BODY_FILE HMAC SHOP
local thread_no = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  body = f:read("*a")
  f:close()
  hmac, shop, counter = args[2], args[3], 0
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/shopify/webhooks", {
    ["Content-Type"] = "application/json",
    ["X-Shopify-Topic"] = "orders/create",
    ["X-Shopify-Hmac-Sha256"] = hmac,
    ["X-Shopify-Shop-Domain"] = shop,
    ["X-Shopify-API-Version"] = "2026-10",
    ["X-Shopify-Webhook-Id"] = "bench-" .. tid .. "-" .. counter,
    ["X-Shopify-Event-Id"] = "bench-event-" .. tid .. "-" .. counter,
  }, body)
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
