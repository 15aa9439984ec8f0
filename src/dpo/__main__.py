from waldo.dpo import main

main(prog_name="python -m dpo")
