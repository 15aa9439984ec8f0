from waldo.dpo import main

main()
