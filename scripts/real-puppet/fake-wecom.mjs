// A stand-in for WeCom's API (qyapi.weixin.qq.com) for scripts/real-puppet-e2e.sh. Node built-ins only.
//
// One HTTP port serves three kinds of request:
//  - direct:   GET /cgi-bin/gettoken, POST /cgi-bin/kf/... (the manager's ACCESS_TOKEN_URL and WeCom__ApiBaseUrl);
//  - proxied:  "GET https://qyapi.weixin.qq.com/cgi-bin/..." in absolute form, which is what axios sends to an
//              HTTP proxy named in HTTPS_PROXY;
//  - CONNECT qyapi.weixin.qq.com:443, answered with TLS (certificate from FAKE_TLS_CERT/KEY, signed by a CA the
//              puppet trusts through NODE_EXTRA_CA_CERTS), for clients that tunnel instead.
// Every call is recorded (path, access token, body; never the corp secret); GET /fake/calls returns them.
//
// Env: FAKE_PORT, FAKE_CORP_ID, FAKE_CORP_SECRET, FAKE_KF_ID, FAKE_KF_NAME, FAKE_TOKEN_TTL (seconds, default 7200),
//      FAKE_TLS_CERT, FAKE_TLS_KEY (PEM files; without them CONNECT is refused).
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';

const port = Number(process.env.FAKE_PORT ?? 0);
const corpId = required('FAKE_CORP_ID');
const corpSecret = required('FAKE_CORP_SECRET');
const kfId = required('FAKE_KF_ID');
const kfName = process.env.FAKE_KF_NAME ?? 'Fake WXKF bot';
const tokenTtlSeconds = Number(process.env.FAKE_TOKEN_TTL ?? 7200);

const tokens = new Map(); // access_token -> { expiresAt }
const calls = [];
let tokenCounter = 0;

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`fake-wecom: ${name} is required`);
    process.exit(2);
  }
  return value;
}

function log(message) {
  console.log(`${new Date().toISOString()} fake-wecom ${message}`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// Which token a request carries, and whether WeCom would take it: 40014 unknown, 42001 expired.
function checkToken(query) {
  const token = query.get('access_token');
  const entry = tokens.get(token ?? '');
  if (!entry) return { errcode: 40014, errmsg: 'invalid access_token (fake)' };
  if (Date.now() >= entry.expiresAt) return { errcode: 42001, errmsg: 'access_token expired (fake)' };
  return null;
}

async function wecom(req, res, via) {
  const url = new URL(req.url, 'https://qyapi.weixin.qq.com');
  const path = url.pathname.replace(/^\/cgi-bin/, '');
  const body = req.method === 'POST' ? await readBody(req) : '';
  let json = {};
  try { json = body ? JSON.parse(body) : {}; } catch { json = { unparsable: body.length }; }
  const call = {
    at: new Date().toISOString(),
    via,
    method: req.method,
    path,
    accessToken: url.searchParams.get('access_token'),
    userAgent: req.headers['user-agent'] ?? null,
    body: json,
  };
  calls.push(call);

  if (path === '/gettoken') {
    if (url.searchParams.get('corpid') !== corpId || url.searchParams.get('corpsecret') !== corpSecret) {
      call.answer = 40001;
      log(`${via} gettoken refused (wrong corpid/corpsecret)`);
      return send(res, 200, { errcode: 40001, errmsg: 'invalid credential (fake)' });
    }
    const accessToken = `FAKE-AT-${++tokenCounter}-${randomBytes(6).toString('hex')}`;
    tokens.set(accessToken, { expiresAt: Date.now() + tokenTtlSeconds * 1000 });
    call.answer = accessToken;
    log(`${via} gettoken -> ${accessToken} (expires_in ${tokenTtlSeconds})`);
    return send(res, 200, { errcode: 0, errmsg: 'ok', access_token: accessToken, expires_in: tokenTtlSeconds });
  }

  const refused = checkToken(url.searchParams);
  if (refused) {
    call.answer = refused.errcode;
    log(`${via} ${req.method} ${path} token ${call.accessToken} -> ${refused.errcode}`);
    return send(res, 200, refused);
  }

  switch (path) {
    case '/kf/account/list':
      log(`${via} kf/account/list`);
      return send(res, 200, {
        errcode: 0, errmsg: 'ok',
        account_list: [{ open_kfid: kfId, name: kfName, avatar: 'https://example.invalid/avatar.png', manage_privilege: true }],
      });
    case '/kf/sync_msg': {
      // A callback's sync token yields one customer message "ding" (the puppet's ding-dong example answers it);
      // a sync without a token (start-up, the puppet's 1-minute poll) yields nothing.
      const syncToken = json.token;
      const messages = syncToken
        ? [{
            msgid: `msg-${syncToken}`, open_kfid: json.open_kfid, external_userid: 'wmFakeCustomer0001',
            send_time: Math.floor(Date.now() / 1000), origin: 3, msgtype: 'text', text: { content: 'ding' },
          }]
        : [];
      log(`${via} kf/sync_msg token=${syncToken ?? '(none)'} open_kfid=${json.open_kfid} cursor=${json.cursor ?? '(none)'} -> ${messages.length} message(s)`);
      return send(res, 200, { errcode: 0, errmsg: 'ok', next_cursor: `cursor-${calls.length}`, has_more: 0, msg_list: messages });
    }
    case '/kf/send_msg':
      log(`${via} kf/send_msg to=${json.touser} text=${JSON.stringify(json.text?.content ?? null)}`);
      return send(res, 200, { errcode: 0, errmsg: 'ok', msgid: `sent-${calls.length}` });
    case '/kf/customer/batchget':
      log(`${via} kf/customer/batchget`);
      return send(res, 200, {
        errcode: 0, errmsg: 'ok',
        customer_list: (json.external_userid_list ?? []).map((id) => ({ external_userid: id, nickname: 'Fake customer', avatar: '', gender: 0, unionid: '' })),
        invalid_external_userid: [],
      });
    default:
      log(`${via} ${req.method} ${path} -> 404`);
      return send(res, 404, { errcode: 404, errmsg: `no fake for ${path}` });
  }
}

const tlsServer = process.env.FAKE_TLS_CERT && process.env.FAKE_TLS_KEY
  ? https.createServer({ cert: fs.readFileSync(process.env.FAKE_TLS_CERT), key: fs.readFileSync(process.env.FAKE_TLS_KEY) },
      (req, res) => { wecom(req, res, 'connect-tls').catch((e) => send(res, 500, { errcode: -1, errmsg: String(e) })); })
  : null;

const server = http.createServer((req, res) => {
  const handle = async () => {
    if (req.url === '/fake/calls') return send(res, 200, calls);
    if (req.url.startsWith('https://qyapi.weixin.qq.com/')) return wecom(req, res, 'proxy-absolute');
    if (req.url.startsWith('/cgi-bin/')) return wecom(req, res, 'direct');
    log(`unexpected request ${req.method} ${req.url}`);
    return send(res, 404, { errcode: 404, errmsg: 'not a WeCom path' });
  };
  handle().catch((e) => send(res, 500, { errcode: -1, errmsg: String(e) }));
});

server.on('connect', (req, socket, head) => {
  if (!tlsServer || req.url !== 'qyapi.weixin.qq.com:443') {
    log(`CONNECT ${req.url} refused`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    return;
  }
  log(`CONNECT ${req.url}`);
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head?.length) socket.unshift(head);
  tlsServer.emit('connection', socket);
});

server.listen(port, '127.0.0.1', () => log(`listening on 127.0.0.1:${server.address().port} (token ttl ${tokenTtlSeconds}s)`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
