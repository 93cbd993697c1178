import sys

# python -m bench ef | scale: the default-EF mode (bench/ef.py), the scale curve (bench/scale.py)
if sys.argv[1:2] == ["ef"]:
    from bench.ef import main as ef_main

    sys.exit(ef_main(sys.argv[2:]))
if sys.argv[1:2] == ["scale"]:
    from bench.scale import main as scale_main

    sys.exit(scale_main(sys.argv[2:]))

from bench.runner import main  # noqa: E402

sys.exit(main())
