// Prints memlab's view of a snapshot, one JSON line per node:
// {"id","self","retained"}, for comparing with `heapscope dominators`.
//
//   NODE_PATH=<dir with node_modules> node memlab_retained.js FILE
'use strict';
const {getFullHeapFromFile} = require('@memlab/heap-analysis');

async function main() {
  const heap = await getFullHeapFromFile(process.argv[2]);
  const lines = [];
  heap.nodes.forEach((node) => {
    lines.push(JSON.stringify({id: node.id, self: node.self_size, retained: node.retainedSize}));
    if (lines.length >= 10000) process.stdout.write(lines.splice(0).join('\n') + '\n');
  });
  if (lines.length) process.stdout.write(lines.join('\n') + '\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
