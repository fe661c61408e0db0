print("drophook-bench")
