"""gunicorn settings, from settings.py like everything else.

gthread workers: a request held open by ``Prefer: wait`` sleeps in one thread while the other
threads keep answering. The app is not preloaded, so each worker opens its own connection pool
after the fork.
"""

import settings

bind = f"{settings.API_HOST}:{settings.API_PORT}"
worker_class = "gthread"
workers = settings.API_WORKERS
threads = settings.API_THREADS
# Access log off by default: at thousands of requests per second it costs more than it tells.
accesslog = "-" if settings.API_ACCESS_LOG else None
errorlog = "-"
# No gunicornc control socket: its default path is per user, not per instance, so a second gunicorn
# on the machine (the bench next to `make dev`) would take over the first one's socket.
control_socket_disable = True
