"""What several resources use: domain fields, header and page schemas, the transaction's documented
shape, the accept helper and ``Prefer: wait``. A resource imports this, ``api.extensions`` and its
own schemas, never another resource.
"""
