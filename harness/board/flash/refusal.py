# The refusal a writer recorded during the last transfer, if any: [operation, answer, offset, call].
_hil_answer({'err': globals().get('_hil_err')})
