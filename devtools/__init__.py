"""What ``make dev``, the bench and the tests share: preflight, development secrets, process
handles and throwaway databases. Nothing in the running system imports it.
"""
