"""moto's server with one request at a time.

moto's backends are not safe under concurrent requests: a DynamoDB transaction checks its
conditions and applies its writes without a lock, and on failure restores a deep copy of the
whole table, which can undo another request's write made in between. DynamoDB itself settles
such races per item, so two concurrent conditional writes can never both win. Serialising
requests here gives the tests that guarantee; connections stay concurrent (threaded server),
only the handling of each request is exclusive.

Usage: python3 moto_server.py HOST PORT
"""
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serial(environ, start_response):
    with lock:
        # Drain the response inside the lock: moto builds it while iterating.
        return [b"".join(app(environ, start_response))]


if __name__ == "__main__":
    run_simple(sys.argv[1], int(sys.argv[2]), serial, threaded=True)
