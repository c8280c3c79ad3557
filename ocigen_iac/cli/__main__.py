from ocigen_iac.cli import main

main()
