// The npm `chromadb` client against `huedb run`: a small user scenario, every result asserted.
// Usage: node scenario.mjs <port>   (run by .ci/js_client.sh with chromadb installed beside it)
import assert from "node:assert/strict";
import { ChromaClient, ChromaNotFoundError } from "chromadb";

const port = Number(process.argv[2]);
const client = new ChromaClient({ host: "127.0.0.1", port, ssl: false });
const noEf = { generate: async (texts) => texts.map(() => [0, 0, 0]) }; // never used: we pass embeddings
let checks = 0;
const check = async (fn) => { await fn(); checks += 1; };

const hb = await client.heartbeat();
await check(() => assert.ok(hb > 0, "heartbeat"));
await check(async () => assert.equal(typeof (await client.version()), "string"));

// collection CRUD
const name = `js-docs-${Date.now()}`;
const col = await client.createCollection({ name, metadata: { topic: "js" }, embeddingFunction: noEf });
await check(() => assert.equal(col.name, name));
await check(() => assert.deepEqual(col.metadata, { topic: "js" }));
await client.createCollection({ name: `${name}-other`, embeddingFunction: noEf });
const names = (await client.listCollections()).map((c) => c.name);
await check(() => assert.ok(names.includes(name) && names.includes(`${name}-other`), `listCollections: ${names}`));
await check(async () => assert.ok((await client.countCollections()) >= 2));
const again = await client.getOrCreateCollection({ name, embeddingFunction: noEf });
await check(() => assert.equal(again.id, col.id));

// records: add, count, get with where, query with where
await col.add({
  ids: ["a", "b", "c", "d"],
  embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]],
  documents: ["apple pie", "banana split", "cherry tart", "apple banana smoothie"],
  metadatas: [
    { fruit: "apple", n: 1 },
    { fruit: "banana", n: 2 },
    { fruit: "cherry", n: 3 },
    { fruit: "mix", n: 4 },
  ],
});
await check(async () => assert.equal(await col.count(), 4));
assert.equal(await col.count(), 4);
const got = await col.get({ ids: ["c", "a"], include: ["documents", "metadatas"] });
await check(() => assert.deepEqual(new Set(got.ids), new Set(["a", "c"])));
const byId = Object.fromEntries(got.ids.map((id, i) => [id, got.documents[i]]));
await check(() => assert.equal(byId.a, "apple pie"));
const filtered = await col.get({ where: { n: { $gte: 3 } } });
await check(() => assert.deepEqual([...filtered.ids].sort(), ["c", "d"]));
const docFiltered = await col.get({ whereDocument: { $contains: "apple" } });
await check(() => assert.deepEqual([...docFiltered.ids].sort(), ["a", "d"]));
const q = await col.query({ queryEmbeddings: [[1, 0.1, 0]], nResults: 2, include: ["distances", "documents"] });
await check(() => assert.equal(q.ids[0][0], "a"));
await check(() => assert.equal(q.ids[0].length, 2));
const qw = await col.query({ queryEmbeddings: [[1, 0.1, 0]], nResults: 2, where: { fruit: { $in: ["banana", "cherry"] } } });
await check(() => assert.deepEqual([...qw.ids[0]].sort(), ["b", "c"]));

// update, upsert, delete
await col.update({ ids: ["a"], metadatas: [{ fruit: "apple", n: 10 }], documents: ["apple crumble"] });
const upd = await col.get({ ids: ["a"], include: ["documents", "metadatas"] });
await check(() => assert.equal(upd.documents[0], "apple crumble"));
await check(() => assert.equal(upd.metadatas[0].n, 10));
await col.upsert({ ids: ["e"], embeddings: [[0, 1, 1]], documents: ["elderberry"], metadatas: [{ fruit: "elder", n: 5 }] });
assert.equal(await col.count(), 5);
await col.delete({ ids: ["e"] });
await col.delete({ where: { fruit: "mix" } });
const left = await col.get();
await check(() => assert.deepEqual([...left.ids].sort(), ["a", "b", "c"]));
assert.equal(await col.count(), 3);

// modify and delete the collection
await col.modify({ name: `${name}-renamed`, metadata: { topic: "renamed" } });
const renamed = await client.getCollection({ name: `${name}-renamed`, embeddingFunction: noEf });
await check(() => assert.deepEqual(renamed.metadata, { topic: "renamed" }));
await client.deleteCollection({ name: `${name}-renamed` });
await client.deleteCollection({ name: `${name}-other` });

// error cases
await assert.rejects(client.getCollection({ name: `${name}-renamed`, embeddingFunction: noEf }), (e) => {
  assert.ok(e instanceof ChromaNotFoundError, `expected ChromaNotFoundError, got ${e?.name}: ${e?.message}`);
  return true;
});
checks += 1;
const dup = await client.createCollection({ name: `${name}-dup`, embeddingFunction: noEf });
await assert.rejects(client.createCollection({ name: `${name}-dup`, embeddingFunction: noEf }), /already exists/);
checks += 1;
await dup.add({ ids: ["x"], embeddings: [[1, 2]] });
await assert.rejects(dup.add({ ids: ["y"], embeddings: [[1, 2, 3]] }), /dimension/i);
checks += 1;
await client.deleteCollection({ name: `${name}-dup` });

console.log(`js scenario: ${checks} checks passed`);
