from codecomp_lsp.server.main import main

main()
