#!/usr/bin/env bash
# Drives the real, unmodified wechaty-puppet-wxkf against this service once, end to end, with a fake WeCom
# (scripts/real-puppet/fake-wecom.mjs) standing in for qyapi.weixin.qq.com. See docs/real-puppet.md.
#
# Usage: scripts/real-puppet-e2e.sh [PUPPET_DIR]
#   PUPPET_DIR  a checkout of github.com/juzibot/wechaty-puppet-wxkf (default /tmp/wechaty-puppet-wxkf); it is
#               installed (npm install --ignore-scripts) and built (npm run build: its own tsc) when needed.
# Env: E2E_WORK (default: a new /tmp/wxkf-real-puppet.XXXXXX), E2E_NETNS=0 to stay in this network namespace
#      (then the "second instance from another address" check is skipped), E2E_TOKEN_TTL (fake WeCom token life, 20 s).
# Needs node >= 18, npm, openssl, curl, the .NET SDK; for the netns part, root and unshare(1).
# Exit status: 0 when every check passed.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
puppet_dir=$(cd "${1:-/tmp/wechaty-puppet-wxkf}" 2>/dev/null && pwd) || { echo "no puppet checkout at ${1:-/tmp/wechaty-puppet-wxkf}" >&2; exit 2; }

if [[ "${E2E_IN_NETNS:-}" != 1 ]]; then
  [[ -f "$puppet_dir/package.json" ]] || { echo "$puppet_dir is not a wechaty-puppet-wxkf checkout" >&2; exit 2; }
  # Network access is needed for these two only, so they run before we enter the private network namespace.
  if [[ ! -d "$puppet_dir/node_modules" ]]; then
    (cd "$puppet_dir" && npm install --ignore-scripts --no-audit --no-fund) || exit 2
  fi
  if [[ ! -f "$puppet_dir/dist/cjs/examples/ding-dong.js" ]]; then
    (cd "$puppet_dir" && npm run build) || exit 2
  fi
  dotnet build "$repo/src/WxkfManager" -v q -nologo || exit 2
  # A private network namespace lets a second puppet instance reach the manager from 127.0.0.2, as a second
  # host would, and keeps our ports away from everyone else's.
  if [[ "${E2E_NETNS:-1}" == 1 ]] && unshare -n true 2>/dev/null; then
    exec env E2E_IN_NETNS=1 unshare -n "$0" "$puppet_dir"
  fi
  echo "note: not in a private network namespace; the check from a second address is skipped"
  second_address=""
else
  ip link set lo up && ip addr add 127.0.0.2/32 dev lo
  second_address=127.0.0.2
fi

echo "versions: node $(node --version), dotnet $(dotnet --version), puppet $(node -p "require('$puppet_dir/package.json').version")," \
  "axios $(node -p "require('$puppet_dir/node_modules/axios/package.json').version")," \
  "typescript $(node -p "require('$puppet_dir/node_modules/typescript/package.json').version")"
work=${E2E_WORK:-$(mktemp -d /tmp/wxkf-real-puppet.XXXXXX)}
mkdir -p "$work"
echo "work directory: $work"

fake_port=18900 manager_port=18901
corp_id=wwfake0123456789ab
kf_id=wkFAKEkf0000000000000000000001
corp_secret=$(openssl rand -hex 16)
callback_token=$(openssl rand -hex 8)
aes_key=$(openssl rand -base64 32 | tr -d '=')          # 43 characters, WeCom's EncodingAESKey
api_key=$(openssl rand -hex 16)                          # MANAGER_API_KEY
operator_key=$(openssl rand -hex 16)                     # MANAGER_OPERATOR_KEY
manager="http://127.0.0.1:$manager_port"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

pids=()
cleanup() {
  exec 2>/dev/null   # no "Killed" job notices
  pkill -KILL -P "${manager_run_pid:-0}" 2>/dev/null   # the service first: killing dotnet run would orphan it
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT

passed=0 failed=0
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then echo "PASS  $what"; passed=$((passed + 1)); else echo "FAIL  $what"; failed=$((failed + 1)); fi
}
wait_for() { # wait_for seconds command...: true as soon as command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS >= deadline)) && return 1; sleep 0.5; done
}
logged() { grep -sqF -- "$2" "$work/$1"; }   # logged file text
api() { curl -s -u "puppet:$api_key" "$@"; }
operator() { curl -s -H "Authorization: Bearer $operator_key" "$@"; }
info() { api "$manager/puppetWxkfManager/puppetWxkfInfo/$kf_id"; }
info_has() { info | grep -qF -- "$1"; }
fake_calls() { curl -s "http://127.0.0.1:$fake_port/fake/calls"; }
callback() { # callback sync-token: a signed, encrypted kf_msg_or_event as WeCom sends it
  CORP_ID=$corp_id CALLBACK_TOKEN=$callback_token AES_KEY=$aes_key KF_ID=$kf_id \
    node "$repo/scripts/real-puppet/wecom-callback.mjs" "$manager" "$1"
}
step() { echo; echo "== $*"; }

# --- fake WeCom, with a CA the puppet trusts for the CONNECT tunnel ---------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fake WeCom CA" -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=qyapi.weixin.qq.com" -keyout "$work/qyapi.key" -out "$work/qyapi.csr" 2>/dev/null
printf 'subjectAltName=DNS:qyapi.weixin.qq.com\n' > "$work/qyapi.ext"
openssl x509 -req -in "$work/qyapi.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 2 \
  -extfile "$work/qyapi.ext" -out "$work/qyapi.crt" 2>/dev/null

FAKE_PORT=$fake_port FAKE_CORP_ID=$corp_id FAKE_CORP_SECRET=$corp_secret FAKE_KF_ID=$kf_id \
  FAKE_TOKEN_TTL=${E2E_TOKEN_TTL:-20} FAKE_TLS_CERT="$work/qyapi.crt" FAKE_TLS_KEY="$work/qyapi.key" \
  node "$repo/scripts/real-puppet/fake-wecom.mjs" > "$work/fake-wecom.log" 2>&1 &
pids+=($!)
wait_for 10 curl -sf "http://127.0.0.1:$fake_port/fake/calls" -o /dev/null || { echo "fake WeCom did not start"; exit 1; }

# --- the manager -------------------------------------------------------------------------------------------------
start_manager() { # start_manager data-dir log-name
  (cd "$repo" && exec env PORT=$manager_port DATA_DIR="$1" LOG_PATH="$work/manager-logs" MANAGER_API_KEY=$api_key MANAGER_OPERATOR_KEY=$operator_key \
    ACCESS_TOKEN_URL="http://127.0.0.1:$fake_port/cgi-bin/gettoken" WeCom__ApiBaseUrl="http://127.0.0.1:$fake_port/cgi-bin/" \
    dotnet run --no-build --project src/WxkfManager --no-launch-profile) > "$work/$2" 2>&1 &
  manager_run_pid=$!
  pids+=($manager_run_pid)
  wait_for 60 curl -sf "$manager/health" -o /dev/null
}
stop_manager() { # SIGTERM to the service process itself (dotnet run is only its parent), SIGKILL after 20 s
  local app
  app=$(pgrep -P "$manager_run_pid" -x WxkfManager)
  echo "stopping the manager (dotnet run $manager_run_pid, service ${app:-not found})"
  [[ -n "$app" ]] && kill -TERM "$app"
  wait_for 20 exited "$manager_run_pid" || { kill -KILL "$app" "$manager_run_pid" 2>/dev/null; echo "the manager did not stop within 20 s: killed"; }
  wait "$manager_run_pid" 2>/dev/null
}
exited() { [[ ! -e "/proc/$1" ]] || grep -q '^State:.*zombie' "/proc/$1/status" 2>/dev/null; }
start_manager "$work/data" manager.log || { echo "manager did not start"; tail -20 "$work/manager.log"; exit 1; }

# --- puppets -----------------------------------------------------------------------------------------------------
# Each instance gets its own HOME and TMPDIR: the puppet keeps a LevelDB cache in ~/.wecahty/puppet-wxkf/flash-store/<kfId>
# and a second process on the same one dies on its LOCK right after it registered.
declare -A puppet_pid
start_puppet() { # start_puppet name callback-port manager-host: starts it, true once it logged its registration
  launch_puppet "$@" && wait_for 30 logged "puppet-$1.log" "successfully!"
}
launch_puppet() {
  local name=$1 port=$2 host=$3
  mkdir -p "$work/home-$name" "$work/tmp-$name"
  (cd "$puppet_dir" && exec env HOME="$work/home-$name" TMPDIR="$work/tmp-$name" \
    HTTPS_PROXY="http://127.0.0.1:$fake_port" NODE_EXTRA_CA_CERTS="$work/ca.crt" \
    PUPPET_WXKF_WECOM_CORP_ID=$corp_id PUPPET_WXKF_WECOM_CORP_SECRET=$corp_secret \
    PUPPET_WXKF_WECOM_APP_TOKEN=$callback_token PUPPET_WXKF_WECOM_APP_AES_KEY=$aes_key \
    PUPPET_WXKF_WECOM_KF_OPEN_ID=$kf_id PUPPET_WXKF_CALLBACK_PORT=$port \
    PUPPET_WXKF_SELF_ENDPOINT="http://127.0.0.1:$port" \
    PUPPET_WXKF_MANAGER_ENDPOINT="http://puppet:$api_key@$host:$manager_port" \
    node dist/cjs/examples/ding-dong.js) > "$work/puppet-$name.log" 2>&1 &
  puppet_pid[$name]=$!
  pids+=($!)
}
alive() { ! exited "${puppet_pid[$1]}"; }
got_or_died() { logged "puppet-$1.log" "onMessage($2)" || ! alive "$1"; }
stop_puppet() { # stop_puppet name signal: sends the signal, waits for the exit, sets $status
  local pid=${puppet_pid[$1]}
  kill "-$2" "$pid"
  wait_for 20 exited "$pid" || { kill -KILL "$pid"; echo "$1 did not exit within 20 s: killed"; }
  status=0
  wait "$pid" || status=$?
  echo "$1 exit status: $status"
}
no_crash() { ! grep -qE 'Unhandled|unhandledRejection|AxiosError|^Error|OpenError' "$work/puppet-$1.log"; }

step "A: the real puppet registers"
check "puppet A started and registered" start_puppet A 18911 127.0.0.1
check "puppetWxkfInfo: online at A's endpoint" info_has '"botEndpoint":"http://127.0.0.1:18911","corpId":"'"$corp_id"'","online":true'
info; echo

step "A: a signed callback reaches it and it calls sync_msg with that token"
answer=$(callback ENC-sync-1); echo "callback answer: $answer"
check "manager answered 200 success" test "$answer" = "200 success"
check "A got the token" wait_for 10 logged puppet-A.log "onMessage(ENC-sync-1)"
check "fake WeCom saw sync_msg with ENC-sync-1" wait_for 10 logged fake-wecom.log "kf/sync_msg token=ENC-sync-1"
check "A answered the message (send_msg dong)" wait_for 10 logged fake-wecom.log 'kf/send_msg to=wmFakeCustomer0001 text="dong"'

step "A: the decrypted path reaches it"
answer=$(api -X POST "$manager/callback/decrypted/$corp_id" -H 'Content-Type: application/json' \
  -d "{\"token\":\"ENC-sync-2\",\"openKfId\":\"$kf_id\"}"); echo "decrypted answer: $answer"
check "manager answered roger" test "$answer" = "roger"
check "A got the token" wait_for 10 logged puppet-A.log "onMessage(ENC-sync-2)"
check "fake WeCom saw sync_msg with ENC-sync-2" wait_for 10 logged fake-wecom.log "kf/sync_msg token=ENC-sync-2"

step "A: getToken through the manager (A's first token, from WeCom directly, expires after ${E2E_TOKEN_TTL:-20} s)"
sleep $(( ${E2E_TOKEN_TTL:-20} + 1 ))
answer=$(callback ENC-sync-3); echo "callback answer: $answer"
check "A hit 42001 and fetched a token again" wait_for 10 logged fake-wecom.log "42001"
check "the manager fetched it from (fake) WeCom" wait_for 10 logged fake-wecom.log "direct gettoken"
check "A called getToken on the manager" wait_for 10 logged manager.log "HTTP GET /puppetWxkfManager/getToken responded 200"
check "A synced ENC-sync-3 with the new token" wait_for 10 logged fake-wecom.log "kf/sync_msg token=ENC-sync-3"
token_answer=$(api "$manager/puppetWxkfManager/getToken?corpid=$corp_id&corpsecret=$corp_secret")
echo "getToken (curl): $token_answer"
check "getToken answers a token" grep -q '"access_token":"FAKE-AT-' <<<"$token_answer"

step "Rolling restart, same address: B registers at another port, then A gets SIGINT"
check "puppet B started and registered" start_puppet B 18912 127.0.0.1
stop_puppet A INT
check "A exited 0 after SIGINT" test "$status" = 0
check "A deregistered" logged puppet-A.log "deregisterPuppet()"
check "A logged no unhandled error" no_crash A
sleep 6   # Registration__HandOverProbeDelay (3 s) + probe
check "puppetWxkfInfo: still online, at B's endpoint" info_has '"botEndpoint":"http://127.0.0.1:18912","corpId":"'"$corp_id"'","online":true'
answer=$(callback ENC-sync-4); echo "callback answer: $answer"
check "B got ENC-sync-4" wait_for 10 logged puppet-B.log "onMessage(ENC-sync-4)"
grep -F "Deregister of $kf_id" "$work/manager.log" | tail -1
grep -F "stays online" "$work/manager.log" | tail -1

last=B
if [[ -n "$second_address" ]]; then
  step "Rolling restart, new address: C registers from $second_address, then B gets SIGINT"
  check "puppet C started and registered (via $second_address)" start_puppet C 18913 "$second_address"
  check "manager saw C's registration from $second_address" logged manager.log "registered at http://127.0.0.1:18913 from $second_address"
  stop_puppet B INT
  check "B exited 0 after SIGINT" test "$status" = 0
  check "B logged no unhandled error" no_crash B
  check "puppetWxkfInfo: online at C's endpoint right after" info_has '"botEndpoint":"http://127.0.0.1:18913","corpId":"'"$corp_id"'","online":true'
  answer=$(callback ENC-sync-5); echo "callback answer: $answer"
  check "C got ENC-sync-5" wait_for 10 logged puppet-C.log "onMessage(ENC-sync-5)"
  grep -F "Deregister of $kf_id" "$work/manager.log" | tail -1
  last=C
fi

step "Plain stop: SIGINT to the last instance ($last) takes the puppet offline"
stop_puppet $last INT
check "$last exited 0 after SIGINT" test "$status" = 0
check "puppetWxkfInfo: offline" wait_for 10 info_has '"online":false'
answer=$(callback ENC-sync-6); echo "callback answer: $answer"
check "an event for the offline puppet is dead-lettered" wait_for 10 bash -c "curl -s -H 'Authorization: Bearer $operator_key' '$manager/operator/dead-letters' | grep -qF '$kf_id'"
operator "$manager/operator/dead-letters"; echo

step "Coming back: a registration releases the recent dead letter at once (${E2E_RELEASE_TRIALS:-3} trials)"
# The manager delivers released events right after it answers the registration; the puppet opens its
# message cache only after its register call returned, so an event that comes first may crash it.
survived=0 crashed=0
for trial in $(seq "${E2E_RELEASE_TRIALS:-3}"); do
  name=R$trial
  if ((trial > 1)); then
    answer=$(callback "ENC-release-$trial"); echo "callback while offline: $answer"
    wait_for 10 bash -c "curl -s -H 'Authorization: Bearer $operator_key' '$manager/operator/dead-letters' | grep -qF 'puppet is deregistered'"
  fi
  token=$([[ $trial == 1 ]] && echo ENC-sync-6 || echo "ENC-release-$trial")
  launch_puppet "$name" $((18920 + trial)) 127.0.0.1
  wait_for 30 got_or_died "$name" "$token"
  sleep 2
  if alive "$name"; then
    survived=$((survived + 1)); echo "$name got $token and is running"
    stop_puppet "$name" INT
  else
    crashed=$((crashed + 1)); wait "${puppet_pid[$name]}"; echo "$name got $token and died (exit status $?):"
    grep -E 'TypeError|Error' "$work/puppet-$name.log" | head -2
    api -X POST "$manager/puppetWxkfManager/deregister" -H 'Content-Type: application/json' \
      -d "{\"kfId\":\"$kf_id\",\"corpId\":\"$corp_id\"}" >/dev/null   # the crashed instance is gone: take it offline
  fi
  wait_for 10 info_has '"online":false'
done
check "the released event reached the puppet in every trial" test "$(grep -lE 'onMessage\((ENC-sync-6|ENC-release-)' "$work"/puppet-R*.log | wc -l)" = "${E2E_RELEASE_TRIALS:-3}"
check "the puppet survived the released event in every trial ($survived of $((survived + crashed)))" test "$crashed" = 0

step "D starts and registers (nothing waiting for it)"
check "puppet D started and registered" start_puppet D 18914 127.0.0.1

step "Deregister of a kfId the manager does not know: manager restarted on an empty data directory, then D gets SIGINT"
stop_manager
start_manager "$work/data-empty" manager-2.log || { echo "manager did not restart"; exit 1; }
stop_puppet D INT
check "D exited 0 after SIGINT" test "$status" = 0
check "D logged no unhandled error" no_crash D
check "manager answered its deregister 200" logged manager-2.log "HTTP POST /puppetWxkfManager/deregister responded 200"
grep -iF "deregister" "$work/manager-2.log" | head -3

step "SIGTERM (what Docker and Kubernetes send): E registers, then gets SIGTERM"
check "puppet E started and registered" start_puppet E 18915 127.0.0.1
stop_puppet E TERM
check "E did not deregister on SIGTERM (the puppet's own behaviour)" bash -c "! grep -qF 'deregisterPuppet()' '$work/puppet-E.log'"
check "so the manager still has it online" info_has '"online":true'
answer=$(callback ENC-sync-7); echo "callback answer: $answer"
check "an event for it is retried (the endpoint is gone)" wait_for 15 logged manager-2.log "to http://127.0.0.1:18915 failed (connection failed"
check "and stays queued (a dead letter only after Delivery__MaxAge, 10 min)" bash -c "curl -s -H 'Authorization: Bearer $operator_key' '$manager/operator/queue' | grep -qE '\"pending\":[1-9]|\"inFlight\":[1-9]'"
operator "$manager/operator/queue"; echo
grep -F "Delivery of Encrypted callback" "$work/manager-2.log" | tail -2
echo "manager log lines so far (manager-2.log): $(wc -l < "$work/manager-2.log"), of which stack-trace lines: $(grep -c '^   at ' "$work/manager-2.log")"

step "A wrong management key: W registers with one, then gets SIGINT"
wrong_key=$(openssl rand -hex 16)
saved_key=$api_key; api_key=$wrong_key
launch_puppet W 18916 127.0.0.1
api_key=$saved_key
check "W's registration is refused with 401 and W says so" wait_for 30 logged puppet-W.log "register failed for message Request failed with status code 401"
grep -F "register failed" "$work/puppet-W.log"
check "W keeps running unregistered" alive W
stop_puppet W INT
check "W exited 0 after SIGINT without a deregister" bash -c "[[ $status == 0 ]] && grep -qF 'bot is not registered, skip deregister' '$work/puppet-W.log'"
echo "lines of W's log containing the wrong key: $(grep -cF "$wrong_key" "$work/puppet-W.log")"

step "What the puppets log"


key_lines=$(cat "$work"/puppet-*.log | grep -cF "$api_key")
echo "lines of puppet logs containing MANAGER_API_KEY: $key_lines"; grep -hF "$api_key" "$work"/puppet-*.log | sed "s/$api_key/<MANAGER_API_KEY>/" | sort | uniq -c
echo "lines of puppet logs with an access token: $(cat "$work"/puppet-*.log | grep -c 'got new accessToken .*: FAKE-AT-')"
echo "lines of manager logs containing a secret: $(cat "$work"/manager*.log | grep -cF -e "$api_key" -e "$corp_secret" -e "$callback_token" -e "$aes_key")"
check "the manager logged none of the secrets" bash -c "! cat '$work'/manager*.log | grep -qF -e '$api_key' -e '$corp_secret' -e '$callback_token' -e '$aes_key'"

stop_manager
echo; echo "passed: $passed, failed: $failed (logs in $work)"
((failed == 0))
