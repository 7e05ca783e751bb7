import { createInterface } from 'node:readline'

/**
 * Asks a yes/no question on the terminal (the prompt on stderr, so stdout stays the command's
 * output); only "y" or "yes" is a yes. Ctrl-C and end of input answer no.
 */
export function askOnTerminal(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const terminal = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    let answered = false
    const answer = (yes: boolean): void => {
      if (answered) return
      answered = true
      terminal.close()
      resolve(yes)
    }
    terminal.on('SIGINT', () => {
      process.stderr.write('\n')
      answer(false)
    })
    terminal.on('close', () => answer(false))
    terminal.question(question, (reply) => answer(/^\s*y(?:es)?\s*$/i.test(reply)))
  })
}
