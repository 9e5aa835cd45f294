from vendorproof._cli import main

main()
