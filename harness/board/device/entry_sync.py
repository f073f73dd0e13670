# Run in plain raw mode after a retried raw-REPL entry (harness/repl/rawRepl.ts, RawRepl.sync):
# its answer marks the end of every stale prompt the board printed before it. It prints
# "hil sync", a text its source does not hold (the two words are separate literals), so a
# friendly REPL's echo of this line can never be taken for the answer (harness/repl/entrySync.wasm.test.ts).
print('hil', 'sync')
