from waldo.cli import main

main()
