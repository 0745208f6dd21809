# comment
%%%
