// Child process running dynalite (plain JS so it needs no loader): started by dynamodb.ts with
// fork(), it answers { ready: port } over IPC and shuts down cleanly — closing LevelDB so the next
// start can open the same directory — on a 'close' message or when its parent goes away.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// dynalite reads LevelDB through streams that end or are destroyed by calling the iterator's
// `return()`, which abstract-level 3's iterators lack, so every Query and Scan left its iterator open
// for good. An open iterator holds a snapshot and the table files and memtable of its moment: files a
// compaction replaced were never deleted (a 3,000-order load left 52 MB of table files; 7 MB with this
// fix) and stayed mapped in memory. Giving the iterators the `return()` dynalite calls closes them.
// The abstract-level patched is the one dynalite's LevelDB binding extends, wherever npm put it.
const requireAlong = (names) => names.reduce((from, name) => createRequire(from.resolve(name)), require);
const { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } = requireAlong([
  'dynalite',
  'level',
  'classic-level',
])('abstract-level');
for (const Iterator of [AbstractIterator, AbstractKeyIterator, AbstractValueIterator]) {
  Iterator.prototype.return ??= async function () {
    await this.close();
    return { done: true, value: undefined };
  };
}
const dynalite = require('dynalite');

const { dataDir, port, host } = JSON.parse(process.argv[2] ?? '{}');
const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

let closing = false;
function shutDown() {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(1), 10_000).unref();
}

server.listen(port ?? 0, host ?? '127.0.0.1', () => process.send?.({ ready: server.address().port }));
server.on('error', (error) => {
  process.send?.({ error: String(error) });
  process.exit(1);
});
process.on('message', (message) => {
  if (message === 'close') shutDown();
});
process.on('disconnect', shutDown);
process.on('SIGTERM', shutDown);
process.on('SIGINT', shutDown);
