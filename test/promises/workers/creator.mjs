// One writer of the stress suite: makes COUNT memories in a context through the library, one after
// another, printing each id once it is stored (what it acknowledged).
const [library, baseDir, worker, count] = process.argv.slice(2);
const { MemoryManager } = await import(library);
const manager = new MemoryManager({ baseDir });
for (let i = 0; i < Number(count); i++) {
  const memory = await manager.createMemory({
    title: `stress ${worker}-${i}`,
    content: `written by worker ${worker}, number ${i}\n\n${'filler '.repeat(40)}`,
    tags: ['stress', `w${worker}`],
  });
  process.stdout.write(`${memory.id}\n`);
}
