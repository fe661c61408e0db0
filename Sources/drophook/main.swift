print("drophook")
