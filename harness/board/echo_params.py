# The smallest board program: answers with the parameters it was given (used by hil's own tests
# of the loader, and handy to check that a board receives JSON parameters intact).
print(repr(_P))
