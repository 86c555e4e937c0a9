from hotline.cli import main

main()
