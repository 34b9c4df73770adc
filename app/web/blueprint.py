"""The dashboard's blueprint object, apart from the package so view modules import it without a cycle."""
from flask import Blueprint

bp = Blueprint("web", __name__)
