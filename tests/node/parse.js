// Line protocol for the tests: each stdin line is a JSON array of dotenv texts; the answer is one line,
// a JSON array of what Node's `dotenv.parse` (the parser Dokploy uses) makes of each.
const readline = require('readline')
const dotenv = require('dotenv')

const rl = readline.createInterface({ input: process.stdin, terminal: false })
rl.on('line', (line) => {
  const texts = JSON.parse(line)
  process.stdout.write(JSON.stringify(texts.map((t) => dotenv.parse(t))) + '\n')
})
