// Posts one kf_msg_or_event callback to the manager the way WeCom does: WXBizMsgCrypt-encrypted XML,
// msg_signature = SHA1 of the sorted (token, timestamp, nonce, Encrypt). Node built-ins only.
//
// Usage: node wecom-callback.mjs <manager base URL> <sync token>
// Env:   CORP_ID, CALLBACK_TOKEN, AES_KEY (43-character EncodingAESKey), KF_ID
// Prints "<HTTP status> <answer body>".
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

const [managerUrl, syncToken] = process.argv.slice(2);
const { CORP_ID: corpId, CALLBACK_TOKEN: token, AES_KEY: aesKey, KF_ID: kfId } = process.env;
if (!managerUrl || !syncToken || !corpId || !token || !aesKey || !kfId) {
  console.error('usage: CORP_ID=.. CALLBACK_TOKEN=.. AES_KEY=.. KF_ID=.. node wecom-callback.mjs <manager URL> <sync token>');
  process.exit(2);
}

const timestamp = String(Math.floor(Date.now() / 1000));
const nonce = String(Math.floor(Math.random() * 1e9));
const event = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><CreateTime>${timestamp}</CreateTime>`
  + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>`
  + `<Token><![CDATA[${syncToken}]]></Token><OpenKfId><![CDATA[${kfId}]]></OpenKfId></xml>`;

// random(16) | length(4, big-endian) | message | receive id, PKCS#7-padded to 32 bytes, AES-256-CBC, IV = key[0..16).
const key = Buffer.from(`${aesKey}=`, 'base64');
const message = Buffer.from(event, 'utf8');
const length = Buffer.alloc(4);
length.writeUInt32BE(message.length);
const plain = Buffer.concat([randomBytes(16), length, message, Buffer.from(corpId, 'utf8')]);
const pad = 32 - (plain.length % 32);
const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
const encrypted = Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
const signature = createHash('sha1').update([token, timestamp, nonce, encrypted].sort().join('')).digest('hex');

const body = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><AgentID><![CDATA[]]></AgentID>`
  + `<Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>`;
const url = `${managerUrl.replace(/\/$/, '')}/callback/${corpId}?msg_signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`;
const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body });
console.log(`${response.status} ${await response.text()}`);
