-- wrk script for authenticated requests: sends "Authorization: Bearer $CLOUDYA_TOKEN".
-- Used by bench/run_http.sh for GET /api/auth/me. It defines no response() hook on purpose:
-- that would make wrk hand every response to Lua and slow the client down; wrk's own
-- "Non-2xx or 3xx responses" line tells whether the answers were 200s.
local token = os.getenv("CLOUDYA_TOKEN")
if token == nil or token == "" then
  error("wrk_auth.lua: set CLOUDYA_TOKEN to a token from POST /api/auth/register or /login")
end
wrk.headers["Authorization"] = "Bearer " .. token
