from subjectline.cli import main

main()
