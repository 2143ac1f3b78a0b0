/**
 * Popular package names, used to spot lookalikes (typosquats). A name on these lists is itself
 * never a typosquat, so legitimate near-neighbours (react/preact, chai/chalk) are listed too.
 */
const NPM = `react react-dom preact vue angular svelte next nuxt express koa fastify hapi lodash lodash-es underscore
ramda axios node-fetch got request superagent ky undici moment dayjs date-fns luxon chalk chai mocha jest vitest jasmine
karma sinon ava tap tape typescript ts-node tsx esbuild webpack rollup vite parcel babel-core @babel/core @babel/preset-env
eslint prettier husky lint-staged commander yargs minimist meow inquirer ora debug dotenv cross-env cross-spawn rimraf
mkdirp glob minimatch micromatch chokidar fs-extra graceful-fs uuid nanoid classnames clsx colors colorette kleur
picocolors semver body-parser cookie-parser cors helmet morgan multer jsonwebtoken bcrypt bcryptjs passport mongoose
mongodb mysql mysql2 pg sequelize typeorm prisma knex redis ioredis socket.io ws zod yup joi ajv immer redux react-redux
mobx rxjs jquery bootstrap tailwindcss postcss autoprefixer sass less styled-components emotion three d3 chart.js
electron puppeteer playwright cheerio jsdom marked markdown-it highlight.js handlebars ejs pug mustache nodemon pm2
concurrently npm-run-all shelljs execa zx event-stream flatmap-stream ua-parser-js coa rc colors faker bluebird async
q through2 readable-stream safe-buffer inherits once wrappy string-width strip-ansi ansi-regex ansi-styles supports-color
has-flag escape-string-regexp js-yaml yaml xml2js cheerio qs querystring path-to-regexp cookie tslib core-js regenerator-runtime
web3 ethers bignumber.js bn.js crypto-js node-forge sharp jimp canvas sqlite3 better-sqlite3 nx lerna turbo @nx/devkit
eslint-scope eslint-config-prettier eslint-plugin-react openai @anthropic-ai/sdk langchain @types/node @types/react
form-data mime mime-types http-proxy http-proxy-middleware node-ipc discord.js telegraf twilio stripe aws-sdk @aws-sdk/client-s3
firebase graphql apollo-server @apollo/client react-router react-router-dom react-query @tanstack/react-query swr
vue-router vuex pinia angular-cli @angular/core @angular/cli chai-http supertest nock msw cypress selenium-webdriver
webdriverio dotenv-expand envalid config nconf winston pino bunyan log4js loglevel signale figlet boxen cli-table3
table progress listr listr2 enquirer prompts yoctocolors picomatch fast-glob globby del execa cosmiconfig rc-config-loader
ms bytes pretty-bytes filesize numeral accounting big.js decimal.js mathjs ml-matrix tensorflow @tensorflow/tfjs
brain.js natural compromise franc iconv-lite encoding punycode tr46 whatwg-url url-parse request-promise cross-fetch
isomorphic-fetch unfetch redaxios ofetch pkg vercel netlify-cli serve http-server live-server browser-sync gulp grunt
bower yarn pnpm npm npx corepack typeorm mikro-orm objection bookshelf drizzle-orm kysely
color dotenvx dotenv-cli ts-jest tsup vitest vite jest-cli npm-check-updates react-native expo next-auth @prisma/client
graphql-tag nestjs @nestjs/core @nestjs/common bullmq pg-promise socket.io-client lodash.merge lodash.get prop-types react-is
node-gyp nan esm chokidar-cli open opener react-icons lucide-react framer-motion zustand jotai recoil valtio immer
sharp-cli rxjs-compat tslint stylelint postcss-cli ts-loader babel-loader css-loader style-loader sass-loader file-loader
express-session express-validator passport-local passport-jwt connect-redis nodemailer mailgun.js @sendgrid/mail`;

const PYPI = `requests urllib3 numpy pandas scipy matplotlib seaborn scikit-learn sklearn tensorflow torch torchvision keras
flask django fastapi starlette uvicorn gunicorn celery redis sqlalchemy psycopg2 psycopg2-binary pymysql boto3 botocore
awscli pyyaml jinja2 markupsafe click typer rich colorama termcolor tqdm pillow opencv-python beautifulsoup4 bs4 lxml
html5lib selenium scrapy pytest pytest-cov tox nose coverage mock hypothesis black isort flake8 pylint mypy ruff
setuptools wheel pip virtualenv pipenv poetry twine cryptography pycryptodome pyopenssl paramiko fabric ansible
python-dateutil pytz arrow pendulum attrs pydantic marshmallow jsonschema simplejson ujson orjson httpx aiohttp
websockets grpcio protobuf six certifi chardet charset-normalizer idna openai anthropic langchain transformers
datasets huggingface-hub tokenizers ultralytics jupyter notebook ipython ipykernel nltk spacy gensim xgboost lightgbm
catboost statsmodels sympy networkx plotly dash bokeh streamlit gradio python-dotenv dotenv docker kubernetes
google-cloud-storage azure-storage-blob pymongo elasticsearch discord.py discord telethon tweepy slack-sdk
colorlog loguru structlog sentry-sdk prometheus-client pyjwt jwt passlib bcrypt argon2-cffi itsdangerous werkzeug
cffi pycparser wrapt decorator toml tomli packaging pyparsing filelock platformdirs distlib typing-extensions
zipp importlib-metadata more-itertools jmespath s3transfer rsa pyasn1 oauthlib requests-oauthlib google-auth
cachetools protobuf3 pyinstaller cython numba llvmlite tabulate prettytable openpyxl xlrd xlsxwriter python-docx
pypdf pypdf2 reportlab jellyfish regex requests-toolbelt responses httpretty freezegun faker factory-boy
uv pdm hatch hatchling flit maturin nox invoke pre-commit pipx poetry-core setuptools-scm types-requests`;

export const POPULAR_NPM: ReadonlySet<string> = new Set(NPM.split(/\s+/).filter(Boolean));
export const POPULAR_PYPI: ReadonlySet<string> = new Set(PYPI.split(/\s+/).filter(Boolean));
