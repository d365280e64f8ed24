"""The producer over HTTP: a Ray Serve deployment graph behind one FastAPI ingress.

    producer serve                                    # serve_configs/local.yaml, 127.0.0.1:8000
    curl -F prompt="dark trap beat" -F duration=8 http://127.0.0.1:8000/v1/produce

Files, in the order a request meets them:

    api.py          the routes, limits and JSON errors (`create_api(backend, args)`)
    body_limit.py   request bodies over the upload limit refused before they are read
    backend.py      what the routes ask of the pipeline (`Backend`, `ProduceJob`, `Produced`)
    ingress.py      the Serve ingress: the routes over DeploymentHandles of the stages
    deployments.py  one Serve deployment per stage: Separator, Planner, Generator, Writer,
                    Renderer
    stages.py       the stages themselves (no Ray): `producer.pipeline` step by step
    local.py        the same stages in one process (tests, debugging without Ray)
    uploads.py      uploaded bytes → audio, through `producer.audio.io.load_audio`
    store.py        results on disk: atomic folders, unguessable ids, expiry
    errors.py       every exception → one status and one line
    schemas.py      the HTTP bodies (OpenAPI at /openapi.json, docs at /docs)
    config.py       `ServeArgs`: what a config file's `args:` holds (limits, store, devices)
    app.py          `build_app(args)`: the graph, as `serve_configs/*.yaml` import it
    launch.py       config files loaded, checked, started on a local Ray (`producer serve`)
"""
