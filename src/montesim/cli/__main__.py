from montesim.cli import app

app(prog_name="montesim")
