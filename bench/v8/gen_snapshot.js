// Writes a Node heap snapshot with about NODES graph nodes, most of them in
// a leaked global Map of Item objects (each Item is ~5 snapshot nodes).
//
//   node --max-old-space-size=8192 gen_snapshot.js NODES OUT.heapsnapshot
'use strict';
const v8 = require('v8');

const [nodesArg, out] = process.argv.slice(2);
const target = Number(nodesArg);
if (!(target > 0) || !out) {
  console.error('usage: gen_snapshot.js NODES OUT.heapsnapshot');
  process.exit(2);
}

class Item {
  constructor(i) {
    this.id = i;
    this.name = 'item-' + i;
    this.payload = [i, i + 1];
    this.meta = {k: i};
  }
}

// A fresh Node process has about 40k nodes; an Item brings five (itself,
// its name string, the payload Array and its elements, the meta Object).
const items = Math.max(0, Math.round((target - 40000) / 5));
globalThis.cache = new Map();
for (let i = 0; i < items; i++) globalThis.cache.set(i, new Item(i));
v8.writeHeapSnapshot(out);
console.log(`${out}: ${items} items`);
