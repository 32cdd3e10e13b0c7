// Writes a V8 heap snapshot of a Node process with one planted leak.
//
//   node leaks.js SCENARIO OUT.heapsnapshot [COUNT]
//
// Scenarios (each leak hangs off a global so DevTools' page-owned rules
// apply as they do to real programs):
//   map        globalThis.cache = Map of COUNT Item objects
//   closure    globalThis.onTick = a closure `handler` capturing a big array
//   listeners  Widgets that registered EventEmitter listeners and were
//              dropped: the listener closures keep them (and their buffers)
//   weakmap    WeakMap values held through their keys (globalThis.keys)
//   orphans    WeakMap values whose keys are only on the stack when the
//              snapshot is taken: DevTools finds them unreachable from the
//              root (orphans), some in cycles (cliques)
//   series     three snapshots of one process while a Map grows (for diff):
//              OUT is a prefix, files OUT-1/2/3.heapsnapshot are written
'use strict';
const v8 = require('v8');
const EventEmitter = require('events');

const [scenario, out, countArg] = process.argv.slice(2);
const count = Number(countArg || 2000);

class Item {
  constructor(i) {
    this.id = i;
    this.name = 'item-' + i;
    this.payload = [i, i + 1];
    this.meta = {k: i};
  }
}

function plantMap(n) {
  globalThis.cache = new Map();
  for (let i = 0; i < n; i++) globalThis.cache.set(i, new Item(i));
}

function plantClosure() {
  function makeHandler() {
    const big = new Array(300000).fill(1.5);
    return function handler() {
      return big.length;
    };
  }
  globalThis.onTick = makeHandler();
}

class Widget {
  constructor(bus, i) {
    this.index = i;
    this.buffer = new Array(200).fill(i);
    bus.on('data', (chunk) => this.render(chunk));
  }
  render(chunk) {
    return chunk === this.index;
  }
}

function plantListeners(n) {
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  globalThis.bus = bus;
  for (let i = 0; i < n; i++) new Widget(bus, i);  // dropped, but still listening
}

class Key {
  constructor(i) {
    this.i = i;
  }
}
class Value {
  constructor(i) {
    this.data = new Array(100).fill(i);
  }
}

function plantWeakMap(n) {
  const wm = new WeakMap();
  globalThis.wm = wm;
  globalThis.keys = [];
  for (let i = 0; i < n; i++) {
    const k = new Key(i);
    globalThis.keys.push(k);
    wm.set(k, new Value(i));
  }
}

class Partner {
  constructor(value) {
    this.value = value;  // a cycle: the value points back at its partner
    this.extra = new Array(50).fill(1);
  }
}

function snapshotWithStackKeys(n, file) {
  const wm = new WeakMap();
  globalThis.wm = wm;
  const stackKeys = [];  // a local: the keys are held by the stack only
  for (let i = 0; i < n; i++) {
    const k = new Key(i);
    stackKeys.push(k);
    const value = new Value(i);
    if (i % 2 === 0) value.partner = new Partner(value);
    wm.set(k, value);
  }
  v8.writeHeapSnapshot(file);
  return stackKeys.length;
}

function main() {
  switch (scenario) {
    case 'map':
      plantMap(count);
      break;
    case 'closure':
      plantClosure();
      break;
    case 'listeners':
      plantListeners(count);
      break;
    case 'weakmap':
      plantWeakMap(count);
      break;
    case 'orphans':
      snapshotWithStackKeys(count, out);
      return;
    case 'series':
      globalThis.cache = new Map();
      for (let step = 1; step <= 3; step++) {
        for (let i = 0; i < count; i++) globalThis.cache.set(globalThis.cache.size, new Item(i));
        v8.writeHeapSnapshot(`${out}-${step}.heapsnapshot`);
      }
      return;
    default:
      console.error('unknown scenario ' + scenario);
      process.exit(2);
  }
  v8.writeHeapSnapshot(out);
}

main();
