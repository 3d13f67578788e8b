"""moto's server with one request at a time.

moto's backends are not safe under concurrent requests: a DynamoDB transaction checks its
conditions and applies its writes without a lock, and on failure restores a deep copy of the
whole table, which can undo another request's write made in between. DynamoDB itself settles
such races per item, so two concurrent conditional writes can never both win. Serialising
requests here gives the tests that guarantee; connections stay concurrent (threaded server),
only the handling of each request is exclusive.

With STRATUS_MOTO_COUNTS=1 it also counts DynamoDB operations by name (and the items of
each TransactWriteItems), served as JSON at GET /_stratus/counts: what bench/lambda-cost
reads to report the operations each function invocation makes.

Usage: python3 moto_server.py HOST PORT
"""
import collections
import json
import os
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


counting = os.environ.get("STRATUS_MOTO_COUNTS") == "1"
counts = collections.Counter()


def count(environ):
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if not target.startswith("DynamoDB_"):
        return None
    op = target.split(".", 1)[1]
    counts[op] += 1
    if op == "TransactWriteItems":
        # Read the body to count its items, then hand moto an identical stream.
        import io

        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size)
        environ["wsgi.input"] = io.BytesIO(body)
        counts["TransactWriteItems.items"] += len(json.loads(body or b"{}").get("TransactItems", []))
    return op


def serial(environ, start_response):
    if counting and environ.get("PATH_INFO") == "/_stratus/counts":
        with lock:
            body = json.dumps(counts).encode()
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(body)))])
        return [body]
    with lock:
        if counting:
            count(environ)
        # Drain the response inside the lock: moto builds it while iterating.
        return [b"".join(app(environ, start_response))]


if __name__ == "__main__":
    run_simple(sys.argv[1], int(sys.argv[2]), serial, threaded=True)
