"""gunicorn settings of the bench: the portal and the floor run under exactly these (one sync
worker, no access log), so their ratio holds on a loaded machine. The bind address is given on
the command line (127.0.0.1 only). Passing this file with -c also keeps a project-level
gunicorn.conf.py (the production profile) from changing what is measured."""

workers = 1
worker_class = "sync"
threads = 1
timeout = 60
accesslog = None
errorlog = "-"
loglevel = "warning"
preload_app = True
