// Verify-and-decrypt operations per second with @wecom/crypto, on the inputs the .NET side wrote.
import { readFileSync } from 'node:fs';
import * as crypto from '@wecom/crypto';

const [inputsFile, secondsText] = process.argv.slice(2);
const inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
const seconds = Number(secondsText ?? '5');

function open() {
  const signature = crypto.getSignature(inputs.token, inputs.timestamp, inputs.nonce, inputs.encrypt);
  if (signature !== inputs.signature) throw new Error('signature does not match');
  const { message, id } = crypto.decrypt(inputs.encodingAesKey, inputs.encrypt);
  if (id !== inputs.corpId || message !== inputs.message) throw new Error('decrypted message does not match');
}

for (let i = 0; i < 20000; i++) open();
let operations = 0;
const started = process.hrtime.bigint();
const limit = BigInt(Math.round(seconds * 1e9));
while (process.hrtime.bigint() - started < limit) {
  for (let i = 0; i < 1000; i++) open();
  operations += 1000;
}
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
console.log(Math.round(operations / elapsed));
