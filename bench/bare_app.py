"""The reference of bench 1: a bare Flask app whose one route returns an empty 200."""
from flask import Flask, Response

app = Flask(__name__)


@app.route("/healthz")
@app.post("/shopify/webhooks")
def ok():
    """Nothing but 200: what the same server does with no application work at all."""
    return Response(status=200)
